# The dashboard (web/) is compiled into the binary, so `ampgrid serve` needs no
# files at run time: the app's own files plus the vendor modules npm installed
# from web/package-lock.json (`make` runs `npm ci --prefix web` first).
#
# Vendor files are served under versioned paths (/vendor/htm@3.1.1/...), so
# they can be cached for a year; the versions come from the installed
# packages and are written into index.html and app/vendor.js (@HTM_VERSION@,
# @UPLOT_VERSION@) here, the only rewriting the files get.
# Defines DASHBOARD_C, the generated source to compile.
set(WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(WEB_GEN ${CMAKE_BINARY_DIR}/web)
set(WEB_VENDOR htm/preact/standalone.module.js uplot/dist/uPlot.esm.js uplot/dist/uPlot.min.css)

foreach(f htm/package.json uplot/package.json ${WEB_VENDOR})
  if(NOT EXISTS ${WEB_DIR}/node_modules/${f})
    message(FATAL_ERROR
      "The dashboard's npm packages are missing (web/node_modules/${f}).\n"
      "Install them from the lock file with:  npm ci --prefix web\n"
      "(`make`, `make run` and `make test` do this for you.)")
  endif()
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${WEB_DIR}/package-lock.json ${WEB_DIR}/node_modules/htm/package.json
  ${WEB_DIR}/node_modules/uplot/package.json)

function(web_pkg_version pkg var)
  file(READ ${WEB_DIR}/node_modules/${pkg}/package.json _json)
  string(JSON _v GET "${_json}" version)
  set(${var} ${_v} PARENT_SCOPE)
endfunction()
web_pkg_version(htm HTM_VERSION)
web_pkg_version(uplot UPLOT_VERSION)

# The manifest: one "URL-path<TAB>file" line per served file.
set(_manifest "")
set(_deps "")
file(GLOB WEB_APP_FILES CONFIGURE_DEPENDS ${WEB_DIR}/app/*.js ${WEB_DIR}/*.css ${WEB_DIR}/*.svg)
foreach(f ${WEB_APP_FILES})
  file(RELATIVE_PATH rel ${WEB_DIR} ${f})
  if(rel STREQUAL "app/vendor.js")
    continue()
  endif()
  string(APPEND _manifest "/${rel}\t${f}\n")
  list(APPEND _deps ${f})
endforeach()
foreach(rel index.html app/vendor.js)
  configure_file(${WEB_DIR}/${rel} ${WEB_GEN}/${rel} @ONLY)
  string(APPEND _manifest "/${rel}\t${WEB_GEN}/${rel}\n")
  list(APPEND _deps ${WEB_GEN}/${rel})
endforeach()
foreach(f ${WEB_VENDOR})
  string(REGEX REPLACE "^([^/]+)/(.*)$" "\\1" _pkg ${f})
  string(REGEX REPLACE "^([^/]+)/(.*)$" "\\2" _rest ${f})
  string(TOUPPER ${_pkg} _up)
  string(APPEND _manifest "/vendor/${_pkg}@${${_up}_VERSION}/${_rest}\t${WEB_DIR}/node_modules/${f}\n")
  list(APPEND _deps ${WEB_DIR}/node_modules/${f})
endforeach()
file(WRITE ${WEB_GEN}/manifest.txt.in "${_manifest}")
configure_file(${WEB_GEN}/manifest.txt.in ${WEB_GEN}/manifest.txt COPYONLY)

set(DASHBOARD_C ${CMAKE_BINARY_DIR}/dashboard_files.c)
add_custom_command(
  OUTPUT ${DASHBOARD_C}
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${WEB_GEN}/manifest.txt -DOUT=${DASHBOARD_C}
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_web.cmake
  DEPENDS ${_deps} ${WEB_GEN}/manifest.txt ${CMAKE_SOURCE_DIR}/cmake/embed_web.cmake
  COMMENT "Embedding the dashboard (web/)")
