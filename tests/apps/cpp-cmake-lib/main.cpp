#include <iostream>
#include "greeting.h"

int main()
{
    std::cout << greeting({"from", "c++", "and", "its", "library"}) << std::endl;
    return 0;
}
