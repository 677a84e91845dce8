#include "guardian/util/result.hpp"
