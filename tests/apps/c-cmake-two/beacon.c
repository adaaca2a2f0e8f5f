#include <stdio.h>

int main(void) {
    printf("beacon: on\n");
    return 0;
}
