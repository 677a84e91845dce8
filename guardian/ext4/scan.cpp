#include "guardian/ext4/scan.hpp"
namespace guardian::ext4 {
Result<ScanResult> scan(const ScanOptions&) { return Error{"scan: not yet built", 0}; }
}
