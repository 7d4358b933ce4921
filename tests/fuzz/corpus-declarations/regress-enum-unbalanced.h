(intenum color { RED, G)REEN = 5, BLUE = GREEN << 2, ALL = ~0u };
typedef REEN = 5, BLUE = GREEN << enum { MODE_A ;= 'a', MOD_B = sizeof(inffff };
int color_name(enum c