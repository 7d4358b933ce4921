static inline int twice(int x) { return x * 2; }
static int hidden(void);
inline int maybe(int x) { if (x) { return 1; } return 0; }
int exported(int x);
