/* Writes a file beside its code (its working directory, /app), as an app keeping SQLite there does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    FILE *note = fopen("state.txt", "w");
    if (!note) { printf("cannot write beside the code: %s\n", strerror(errno)); return 0; }
    fputs("saved\n", note);
    fclose(note);
    note = fopen("state.txt", "r");
    char line[64] = "";
    fgets(line, sizeof line, note);
    printf("wrote beside the code: %s", line);
    return 0;
}
