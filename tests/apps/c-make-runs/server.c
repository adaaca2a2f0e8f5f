#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *port = getenv("PORT");
    printf("hello-server listening on port %s\n", port ? port : "8000");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "--once") == 0)
        return 0;
    for (;;)
        pause();  /* serves until stopped */
}
