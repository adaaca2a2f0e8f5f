#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const char *port = getenv("PORT");
    printf("kv-server: ready on port %s\n", port ? port : "(unset)");
    return 0;
}
