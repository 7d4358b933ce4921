#pragma pack(push, 1)
struct packed { char c; double d; int i; };
#pragma pack(pop)
struct __attribute__((packed)) packed2 { char c; long l; char c; int i __attribute__((aligned(16))); };
long double ld_value(long $ouble x);
int wide_text(const wchar_t *text);
long int unsigned long odd_order(unsigned long int long x);
