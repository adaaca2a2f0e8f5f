#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *pattern = argc > 1 ? argv[1] : "s2i+";
    const char *subject = argc > 2 ? argv[2] : "build with s2iii";
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);
    if (re == NULL)
        return 2;
    pcre2_match_data *match = pcre2_match_data_create_from_pattern(re, NULL);
    int found = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, match, NULL);
    if (found > 0) {
        PCRE2_SIZE *at = pcre2_get_ovector_pointer(match);
        printf("matched '%.*s'\n", (int)(at[1] - at[0]), subject + at[0]);
    } else {
        printf("no match\n");
    }
    pcre2_match_data_free(match);
    pcre2_code_free(re);
    return 0;
}
