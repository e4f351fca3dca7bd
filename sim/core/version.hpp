#pragma once
/// @file version.hpp
/// The migsim version: the project version plus `git describe` of the source tree at build
/// time (for example "0.1.0+gabc1234-dirty"). Written into every output file.

namespace migsim {
const char* version();
}  // namespace migsim
