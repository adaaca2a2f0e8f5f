/* Prints the page it would serve, read from htdocs/ relative to its working directory at run time. */
#include <stdio.h>

int main(void) {
    char line[256];
    FILE *page = fopen("htdocs/index.html", "r");
    if (!page) { perror("htdocs/index.html"); return 1; }
    while (fgets(line, sizeof line, page)) fputs(line, stdout);
    return 0;
}
