# embed_files(OUT_C SYMBOL BASE_DIR FILES...)
# Generates a C source holding each file's bytes, so that a binary carries
# its schema migrations (and the dashboard) without reading them at run time.
# The table is `const struct embed_file SYMBOL[]`, ended by a {NULL} entry.
function(embed_files out_c symbol base_dir)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_c} -DSYMBOL=${symbol}
            -DBASE=${base_dir} "-DFILES=${files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${symbol}"
    VERBATIM)
endfunction()
