#include "greeting.h"
#include <numeric>

std::string greeting(const std::vector<std::string> &names)
{
    return std::accumulate(names.begin(), names.end(), std::string("hello"),
                           [](std::string text, const std::string &name) { return text + " " + name; });
}
