#include "record/wav_builder.hpp"
