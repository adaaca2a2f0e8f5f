#include <stdio.h>

int main(int argc, char **argv) {
    printf("kv-cli: %d arguments\n", argc - 1);
    return 0;
}
