// ext4's view of the on-disk byte readers (guardian/ondisk/bytes.hpp): the
// engine reads every field through them.
#pragma once

#include "guardian/ondisk/bytes.hpp"

namespace guardian::ext4 {

using ondisk::be16;
using ondisk::be32;
using ondisk::Bytes;
using ondisk::le16;
using ondisk::le32;
using ondisk::le64;
using ondisk::u8;

} // namespace guardian::ext4
