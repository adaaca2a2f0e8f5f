/* reads its config and its document root by relative path, as lighttpd does with -f lighttpd.conf */
#include <stdio.h>

static void print_file(const char *path) {
    char line[256];
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        printf("%s: missing\n", path);
        return;
    }
    while (fgets(line, sizeof line, file) != NULL)
        printf("%s: %s", path, line);
    fclose(file);
}

int main(void) {
    print_file("conf/show.conf");
    print_file("site/index.html");
    return 0;
}
