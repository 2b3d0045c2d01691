#include "record/log_format.hpp"
