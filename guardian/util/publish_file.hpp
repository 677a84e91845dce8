// Publishing a file that another program picks up by name while we write it
// (node_exporter's textfile collector reads every *.prom in its directory):
// the content goes to a hidden temporary file in the same directory, is given
// exactly `mode` (whatever the umask), synced and renamed over `path`, so a
// reader sees the old file or the new one, never a part. Unlike
// write_file_atomic (fd.hpp) the temporary name is unique, so two writers
// (a timer run overlapping a manual one) cannot interleave.
#pragma once

#include "guardian/util/result.hpp"

#include <string>
#include <string_view>

namespace guardian {

[[nodiscard]] Status publish_file(const std::string& path, std::string_view content,
                                  unsigned mode = 0644);

} // namespace guardian
