/* Says which Procfile process started it: `--process worker` in s2i build picks the worker: line. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("process");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    return 0;
}
