struct open { int a;
int after(int);
typedef struct { int b; T;
};
int f(int));
enum e { X = , Y };
int g(int a[static 4], int b[*]);
