struct outer {
    int kind;
    union { int i; float f; };
    struct { short lo, hi; } pair;
    struct { int x; };
};
struct outer outer_get(int kind);
typedef int array_t[4];
void array_fill(array_t out);
extern const char *const names[];
extern int counter;
