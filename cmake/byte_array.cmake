# mb_byte_array(PATH BYTES_VAR SIZE_VAR): a file's bytes as the initialisers of a C array ("0x4a,0x0f,"),
# sixteen to a line, and its size; for the scripts that embed files at build time (web/embed_assets.cmake,
# probe/embed_utterance.cmake). Byte arrays need no escaping: any content (UTF-8, binary) survives.
function(mb_byte_array path bytes_var size_var)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x..," 16 sixteen)  # CMake's regular expressions have no {n}
  string(REGEX REPLACE "(${sixteen})" "\\1\n  " bytes "${bytes}")
  set(${bytes_var} "${bytes}" PARENT_SCOPE)
  set(${size_var} ${size} PARENT_SCOPE)
endfunction()
