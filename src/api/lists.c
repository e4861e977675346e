/*
 * Sorted, cursor-paged lists; see lists.h. Lists kept in memory (stations,
 * id tokens) are sorted here with the same rules the store applies in SQL:
 * keys compare as SQLite compares them (integers before text, text by
 * bytes), nulls where the field's table says, ties broken by the id.
 */
#include "api/lists.h"

#include "util/alloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest cursor accepted, in characters (net/ keeps query values below 1 KiB). */
#define CURSOR_MAX 1000
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const api_sort_field_t *field_find(const api_list_t *l, const char *name)
{
    for (const api_sort_field_t *f = l->sorts; f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

/* "id, site or created_at" */
static void field_names(const api_list_t *l, char *out, size_t len)
{
    size_t n = 0, total = 0;
    for (const api_sort_field_t *f = l->sorts; f->name; f++)
        total++;
    out[0] = '\0';
    for (const api_sort_field_t *f = l->sorts; f->name; f++, n++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s",
                 n == 0           ? ""
                 : n + 1 == total ? " or "
                                  : ", ",
                 f->name);
    }
}

static bool bad_cursor(api_call_t *c)
{
    api_problem(c, 400, "Bad Request",
                "cursor is not one this server gave out; use next_cursor from the last page");
    return false;
}

static bool key_ok(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_null(v);
}

static bool id_ok(const api_list_t *l, const json_t *v)
{
    return l->text_ids ? json_is_string(v) : json_is_integer(v);
}

static bool wrong_sort(api_call_t *c, const api_page_t *p, const char *made_for)
{
    api_problem(c, 400, "Bad Request",
                "this cursor belongs to sort=%.64s, not sort=%s: send it with the sort it was "
                "made for, or leave the cursor out to start again from the first page",
                made_for, p->sort);
    return false;
}

/* "v1:<id>": the cursors of the default order before sorting existed. */
static bool cursor_v1(api_call_t *c, api_page_t *p, const char *id)
{
    if (strcmp(p->sort, p->list->default_sort) != 0) return wrong_sort(c, p, p->list->default_sort);
    if (p->list->text_ids) {
        if (!*id) return bad_cursor(c);
        p->after_id = json_string(id);
    } else {
        char *end;
        long long v = strtoll(id, &end, 10);
        if (!*id || *end || v <= 0) return bad_cursor(c);
        p->after_id = json_integer(v);
    }
    if (!p->after_id) return bad_cursor(c);  /* not UTF-8 */
    p->after_key = json_incref(p->after_id); /* the default sorts by the id itself */
    return true;
}

static bool cursor_read(api_call_t *c, api_page_t *p, const char *cur)
{
    size_t len = strlen(cur), n = 0;
    if (len == 0 || len > CURSOR_MAX) return bad_cursor(c);
    unsigned char *raw = xmalloc(len + 1);
    bool ok = false;
    if (sodium_base642bin(raw, len, cur, len, NULL, &n, NULL, B64) != 0 || n < 3 ||
        memchr(raw, '\0', n)) {
        bad_cursor(c);
        goto done;
    }
    raw[n] = '\0';
    if (memcmp(raw, "v1:", 3) == 0) {
        ok = cursor_v1(c, p, (char *)raw + 3);
        goto done;
    }
    json_t *a = memcmp(raw, "v2:", 3) == 0 ? json_loadb((char *)raw + 3, n - 3, 0, NULL) : NULL;
    const char *sort = json_string_value(json_array_get(a, 0));
    if (!json_is_array(a) || json_array_size(a) != 3 || !sort || !key_ok(json_array_get(a, 1)) ||
        !id_ok(p->list, json_array_get(a, 2))) {
        json_decref(a);
        bad_cursor(c);
        goto done;
    }
    if (strcmp(sort, p->sort) != 0) {
        wrong_sort(c, p, sort);
        json_decref(a);
        goto done;
    }
    p->after_key = json_incref(json_array_get(a, 1));
    p->after_id = json_incref(json_array_get(a, 2));
    json_decref(a);
    ok = true;
done:
    free(raw);
    return ok;
}

bool api_page_read(api_call_t *c, const api_list_t *l, api_page_t *p)
{
    memset(p, 0, sizeof *p);
    p->list = l;
    const char *s = api_query(c, "sort");
    if (!s) s = l->default_sort;
    const char *name = s[0] == '-' ? s + 1 : s;
    p->field = strlen(s) < sizeof p->sort ? field_find(l, name) : NULL;
    if (!p->field) {
        char names[400];
        field_names(l, names, sizeof names);
        api_problem(c, 400, "Bad Request",
                    "sort must be %s, or one of them after a '-' for descending order "
                    "(sort=-%s); got '%.64s'",
                    names, l->sorts[0].name, s);
        return false;
    }
    p->desc = s[0] == '-';
    snprintf(p->sort, sizeof p->sort, "%s", s);
    p->limit = api_limit(c, l->default_limit, l->max_limit);
    if (p->limit < 0) return false;
    const char *cur = api_query(c, "cursor");
    if (cur && !cursor_read(c, p, cur)) {
        api_page_clear(p);
        return false;
    }
    return true;
}

void api_page_clear(api_page_t *p)
{
    json_decref(p->after_key);
    json_decref(p->after_id);
    p->after_key = p->after_id = NULL;
}

store_page_t api_page_store(const api_page_t *p)
{
    return (store_page_t){
        .sort = p->field->name,
        .desc = p->desc,
        .after_key = p->after_id ? p->after_key : NULL,
        .after_id = p->after_id,
        .limit = p->limit + 1,
    };
}

json_t *api_page_cursor(const api_page_t *p, const json_t *key, const json_t *id)
{
    json_t *a = json_pack("[s,O,O]", p->sort, key ? key : json_null(), id ? id : json_null());
    char *txt = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(a);
    if (!txt) return json_null();
    size_t n = strlen(txt) + 3;
    char *raw = xmalloc(n + 1);
    snprintf(raw, n + 1, "v2:%s", txt);
    free(txt);
    size_t out_len = sodium_base64_encoded_len(n, B64);
    char *out = xmalloc(out_len);
    sodium_bin2base64(out, out_len, (const unsigned char *)raw, n, B64);
    json_t *r = json_string(out);
    free(raw);
    free(out);
    return r ? r : json_null();
}

json_t *api_page_answer(const api_page_t *p, const json_t *rows, json_t *(*item)(json_t *row))
{
    json_t *items = json_array(), *next = json_null();
    size_t n = json_array_size(rows), limit = (size_t)p->limit;
    for (size_t i = 0; i < n && i < limit; i++) {
        json_t *row = json_copy(json_array_get(rows, i));
        json_object_del(row, "sort_key");
        json_object_del(row, "sort_id");
        json_array_append_new(items, item ? item(row) : json_incref(row));
        json_decref(row);
    }
    if (n > limit) {
        const json_t *last = json_array_get(rows, limit - 1);
        json_decref(next);
        next =
            api_page_cursor(p, json_object_get(last, "sort_key"), json_object_get(last, "sort_id"));
    }
    return json_pack("{s:o,s:o}", "items", items, "next_cursor", next);
}

typedef struct page_call {
    api_call_t *call;
    api_page_t page;
    json_t *(*item)(json_t *row);
} page_call_t;

void *api_page_hold(api_call_t *c, api_page_t *p, json_t *(*item)(json_t *row))
{
    page_call_t *pc = xcalloc(1, sizeof *pc);
    pc->call = c;
    pc->page = *p;
    pc->item = item;
    p->after_key = p->after_id = NULL; /* moved */
    api_hold(c);
    return pc;
}

void api_page_done(void *ctx, store_err_t rc, json_t *rows)
{
    page_call_t *pc = ctx;
    api_call_t *c = pc->call;
    if (api_alive(c)) {
        if (rc != STORE_OK)
            api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        else
            api_json(c, 200, api_page_answer(&pc->page, rows, pc->item));
    }
    api_page_clear(&pc->page);
    free(pc);
}

/* ---------------------------------------------------- lists sorted here */

/* As SQLite orders values: integers before text, text by bytes. */
static int key_cmp(const json_t *a, const json_t *b, bool nulls_high)
{
    bool an = !a || json_is_null(a), bn = !b || json_is_null(b);
    if (an || bn) {
        if (an && bn) return 0;
        return an == nulls_high ? 1 : -1;
    }
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_string(a) && json_is_string(b)) {
        int r = strcmp(json_string_value(a), json_string_value(b));
        return (r > 0) - (r < 0);
    }
    return json_is_integer(a) ? -1 : 1;
}

static int pos_cmp(const api_page_t *p, const json_t *ka, const json_t *ia, const json_t *kb,
                   const json_t *ib)
{
    int r = key_cmp(ka, kb, p->field->nulls_high);
    if (r == 0) r = key_cmp(ia, ib, false);
    return p->desc ? -r : r;
}

static int row_cmp(const void *x, const void *y, void *ctx)
{
    const api_page_row_t *a = x, *b = y;
    return pos_cmp(ctx, a->key, a->id, b->key, b->id);
}

size_t api_page_sort(const api_page_t *p, api_page_row_t *rows, size_t n)
{
    qsort_r(rows, n, sizeof *rows, row_cmp, (void *)p);
    size_t i = 0;
    if (p->after_id)
        while (i < n && pos_cmp(p, rows[i].key, rows[i].id, p->after_key, p->after_id) <= 0)
            i++;
    return i;
}

json_t *api_page_of(const api_page_t *p, api_page_row_t *rows, size_t n,
                    json_t *(*to_json)(const void *item))
{
    for (size_t i = 0; i < n; i++)
        rows[i].key = p->field->key(rows[i].item);
    size_t i = api_page_sort(p, rows, n);
    json_t *items = json_array(), *next = json_null();
    for (; i < n && json_array_size(items) < (size_t)p->limit; i++)
        json_array_append_new(items, to_json(rows[i].item));
    if (i < n) {
        json_decref(next);
        next = api_page_cursor(p, rows[i - 1].key, rows[i - 1].id);
    }
    for (size_t j = 0; j < n; j++) {
        json_decref(rows[j].key);
        json_decref(rows[j].id);
    }
    free(rows);
    return json_pack("{s:o,s:I,s:o}", "items", items, "total", (json_int_t)n, "next_cursor", next);
}
