#define VERSION "1.2.3"
#define MAJOR 1
#define MINOR (MAJOR + 1)
#define MASK (~0u >> 4)
#define FLOATY 35.2e+0f
#define TWICE(x) ((x) + (x))
#define FOUR TWICE(TWICE(1))
#define A0 1
#define A1 (A0 + A0)
#define A2 (A1 + A1)
#define A3 (A2 + A2)
#define CAT(a, b) a ## b
#define STR(x) #x
#define NAME STR(CAT(foo, bar))
#define PTR ((void *)0)
int macro_user(int x);
#define macro_alias macro_user
#define macro_call(x) macro_user((x))
