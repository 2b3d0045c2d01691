#include "sip/sideband_state.hpp"
