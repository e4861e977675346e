/*
 * Shared by the schema-conformance tests (test_v16_schemas.c, test_v201_schemas.c):
 * loading an official OCPP JSON schema file, finding a message's schema, and
 * following "$ref"s, with mismatches reported by path. Test code only; the
 * including file defines SCHEMA_FILE and MAX_REF_HOPS first.
 */
#ifndef AMPGRID_TESTS_SCHEMA_FILE_H
#define AMPGRID_TESTS_SCHEMA_FILE_H

static json_t *g_schemas; /* the file's array of schemas, NULL when it did not load */
static char g_load_error[2048];
static char g_schema_path[1024];

typedef struct cmp {
    const json_t *root; /* schema being compared, for "#/definitions/..." */
    const char *id;     /* "Authorize.req" */
    int mismatches;
} cmp_t;

static void mismatch(cmp_t *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    MISMATCH %s %s: ", c->id, path[0] ? path : "(root)");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    c->mismatches++;
}

/* ---- loading ----------------------------------------------------------------------------- */

static void load_schemas(int argc, char **argv)
{
    const char *dir = getenv("AMPGRID_SCHEMA_DIR");
    if (argc > 1)
        snprintf(g_schema_path, sizeof(g_schema_path), "%s", argv[1]);
    else if (dir != NULL && dir[0] != '\0')
        snprintf(g_schema_path, sizeof(g_schema_path), "%s/%s", dir, SCHEMA_FILE);
#ifdef AMPGRID_DEFAULT_SCHEMA_DIR
    else
        snprintf(g_schema_path, sizeof(g_schema_path), "%s/%s", AMPGRID_DEFAULT_SCHEMA_DIR,
                 SCHEMA_FILE);
#endif
    if (g_schema_path[0] == '\0') {
        snprintf(g_load_error, sizeof(g_load_error),
                 "no schema file given: pass the path to %s as the first argument or set "
                 "AMPGRID_SCHEMA_DIR to tests/node_modules/ocpp-rpc/lib/schemas (run npm ci "
                 "in tests/ first)",
                 SCHEMA_FILE);
        return;
    }
    json_error_t error;
    g_schemas = json_load_file(g_schema_path, JSON_REJECT_DUPLICATES, &error);
    if (g_schemas == NULL) {
        snprintf(g_load_error, sizeof(g_load_error),
                 "cannot load %s: %s (line %d); it comes from the ocpp-rpc npm package: run "
                 "npm ci in tests/",
                 g_schema_path, error.text, error.line);
    } else if (!json_is_array(g_schemas)) {
        snprintf(g_load_error, sizeof(g_load_error), "%s is not a JSON array of schemas",
                 g_schema_path);
        json_decref(g_schemas);
        g_schemas = NULL;
    }
}

/* "urn:Authorize.req" -> action "Authorize", suffix "req"; false if not of that form. */
static bool split_id(const json_t *schema, char *action, size_t cap, const char **suffix)
{
    const char *id = json_string_value(json_object_get(schema, "$id"));
    if (id == NULL || strncmp(id, "urn:", 4) != 0) return false;
    const char *dot = strrchr(id + 4, '.');
    if (dot == NULL || (size_t)(dot - (id + 4)) >= cap) return false;
    memcpy(action, id + 4, (size_t)(dot - (id + 4)));
    action[dot - (id + 4)] = '\0';
    *suffix = dot + 1;
    return strcmp(*suffix, "req") == 0 || strcmp(*suffix, "conf") == 0;
}

static const json_t *find_schema(const char *action, const char *suffix)
{
    char want[256];
    snprintf(want, sizeof(want), "urn:%s.%s", action, suffix);
    size_t i;
    json_t *s;
    json_array_foreach(g_schemas, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "$id"));
        if (id != NULL && strcmp(id, want) == 0) return s;
    }
    return NULL;
}

/* ---- comparison -------------------------------------------------------------------------- */

static const json_t *resolve(cmp_t *c, const json_t *node, const char *path)
{
    for (int hops = 0; hops < MAX_REF_HOPS; hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (ref == NULL) return node;
        const char *prefix = "#/definitions/";
        const json_t *target = NULL;
        if (strncmp(ref, prefix, strlen(prefix)) == 0)
            target = json_object_get(json_object_get(c->root, "definitions"), ref + strlen(prefix));
        if (target == NULL) {
            mismatch(c, path, "cannot resolve $ref '%s'", ref);
            return NULL;
        }
        node = target;
    }
    mismatch(c, path, "$ref chain longer than %d", MAX_REF_HOPS);
    return NULL;
}


#endif
