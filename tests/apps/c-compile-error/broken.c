/* A typo on line 4: the summary names it, not make's last line. */
int util(void);

int broken(void) { return util() +; }
