#include <stdio.h>
#include "stamp.h"

int main(void)
{
    printf("stamp: %d\n", stamp(6));
    return 0;
}
