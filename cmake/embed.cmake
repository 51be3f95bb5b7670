# embed_files(OUT_C SYMBOL BASE_DIR [GZIP] FILES...)
# Generates a C source holding each file's bytes (and, with GZIP, a gzip
# copy), so that a binary carries its schema migrations and its
# dashboard without reading them at run time.  The table is
# `const struct embed_file SYMBOL[]` (common/embed.h), ended by {NULL}.
function(embed_files out_c symbol base_dir)
  set(files ${ARGN})
  set(gzip OFF)
  list(GET files 0 first)
  if(first STREQUAL "GZIP")
    set(gzip ON)
    list(REMOVE_AT files 0)
  endif()
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_c} -DSYMBOL=${symbol}
            -DBASE=${base_dir} -DGZIP=${gzip} "-DFILES=${files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${symbol}"
    VERBATIM)
endfunction()
