struct point { double x, y; };
typedef struct { int a; unsigned b : 3; unsigned : 0; unsigned c : 5; } flags_t;
union value { long i; double d; char bytes[8]; };
struct list { struct list *next; union value v; int data[]; };
typedef struct point point_t, *point_p;
point_t point_make(double x, double y);
double point_norm(const point_t *p);
