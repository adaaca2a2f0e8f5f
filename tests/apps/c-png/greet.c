const char *greet(void) { return "hello from libgreet"; }
