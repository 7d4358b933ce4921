enum color { RED, GREEN = 5, BLUE = GREEN << 2, ALL = ~0u };
typedef enum { MODE_A = 'a', MODE_B = sizeof(int), MODE_C = (int)3.9 } mode_t2;
enum big { BIG = 0x7fffffffffffffff };
int color_name(enum color c, char *out, size_t n);
