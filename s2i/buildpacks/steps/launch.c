/* s2i-launch: the first process of an s2i image.
 *
 * It expands $VAR, ${VAR}, ${VAR:-default} and ${VAR-default} in its arguments from the container's
 * environment (a Procfile line such as `web: gunicorn -w ${WEB_CONCURRENCY:-2} -b :$PORT app:app`
 * needs no shell in the image), then runs them. As PID 1 it forwards signals to the app and reaps
 * orphaned processes, which the kernel leaves to PID 1; it exits with the app's status.
 * Built static against musl by the build's step, so it runs on any base, scratch included.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct text { char *data; size_t len, cap; };

static void say(const char *a, const char *b, const char *c) {
    const char *parts[] = {"s2i-launch: ", a, b, c, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (parts[i]) (void)!write(2, parts[i], strlen(parts[i]));
}

static void put(struct text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = realloc(t->data, t->cap);
        if (!t->data) { say("out of memory", 0, 0); exit(127); }
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
}

static int name_char(char c, int first) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

/* A `$` that starts no variable, and an unterminated `${`, stay as written. */
static char *expand(const char *s) {
    struct text out = {0};
    put(&out, "", 0);
    while (*s) {
        const char *p = s + 1, *name, *fallback = 0;
        int braced = *s == '$' && *p == '{', colon = 0;
        if (*s != '$') { put(&out, s++, 1); continue; }
        if (braced) p++;
        for (name = p; name_char(*p, p == name); p++) {}
        size_t n = (size_t)(p - name), fallback_len = 0;
        if (n == 0) { put(&out, s++, 1); continue; }
        if (braced) {
            if (p[0] == ':' && p[1] == '-') { colon = 1; p += 2; fallback = p; }
            else if (p[0] == '-') { fallback = ++p; }
            while (*p && *p != '}') p++;
            if (*p != '}' || (!fallback && p != name + n)) { put(&out, s++, 1); continue; }
            if (fallback) fallback_len = (size_t)(p - fallback);
            p++;
        }
        char key[256];
        if (n >= sizeof key) n = sizeof key - 1;
        memcpy(key, name, n);
        key[n] = 0;
        const char *value = getenv(key);
        if (fallback && (!value || (colon && !*value))) put(&out, fallback, fallback_len);
        else if (value) put(&out, value, strlen(value));
        s = p;
    }
    return out.data;
}

static int status_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int stopping; /* a SIGTERM or SIGINT came: no further step starts */

/* Runs args with every signal forwarded to it, reaping whatever else ends, until it exits: its status. */
static int supervise(char **args, sigset_t *all, sigset_t *previous) {
    pid_t app = fork();
    if (app < 0) { say("cannot fork", 0, 0); return 127; }
    if (app == 0) {
        sigprocmask(SIG_SETMASK, previous, 0);
        execvp(args[0], args);
        say("cannot run ", args[0], errno == ENOENT ? ": not found" : ": not executable");
        _exit(127);
    }
    for (;;) {
        int sig = 0;
        if (sigwait(all, &sig) != 0) continue;
        if (sig != SIGCHLD) { stopping |= sig == SIGTERM || sig == SIGINT; kill(app, sig); continue; }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == app) return status_of(status);
    }
}

/* `--s2i-then=N` / `--s2i-and=N` (a Procfile's `;` / `&&`): the next N words are a step run before the rest. */
static int step_words(const char *word, int *and_then) {
    const char *count = 0;
    if (strncmp(word, "--s2i-then=", 11) == 0) { count = word + 11; *and_then = 0; }
    else if (strncmp(word, "--s2i-and=", 10) == 0) { count = word + 10; *and_then = 1; }
    int n = 0;
    for (; count && *count >= '0' && *count <= '9' && n < 100000; count++) n = n * 10 + (*count - '0');
    return count && !*count ? n : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { say("usage: s2i-launch [--s2i-then=N|--s2i-and=N STEP...] COMMAND [ARGS...]", 0, 0); return 2; }
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args) return 127;
    for (int i = 1; i < argc; i++) args[i - 1] = expand(argv[i]);
    /* Blocked signals reach PID 1 even without handlers; sigwait takes them one at a time. */
    sigset_t all, previous;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &previous);
    int at = 0, count = argc - 1, and_then, n;
    while ((n = step_words(args[at], &and_then)) && at + 1 + n < count) {
        char *after = args[at + 1 + n];
        args[at + 1 + n] = 0;
        int status = supervise(args + at + 1, &all, &previous);
        args[at + 1 + n] = after;
        if (stopping || (and_then && status != 0)) return status;
        at += 1 + n;
    }
    if (getpid() != 1) {
        sigprocmask(SIG_SETMASK, &previous, 0);
        execvp(args[at], args + at);
        say("cannot run ", args[at], errno == ENOENT ? ": not found" : ": not executable");
        return 127;
    }
    return supervise(args + at, &all, &previous);
}
