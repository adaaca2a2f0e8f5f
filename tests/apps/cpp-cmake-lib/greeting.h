#pragma once
#include <string>
#include <vector>

std::string greeting(const std::vector<std::string> &names);
