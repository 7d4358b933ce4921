/* Declarations of demo_rs.rs for pyffi.load (what cbindgen would write, in pyffi's types). */
#include "pyffi.h"

int32_t rs_add(int32_t a, int32_t b);
size_t rs_count_words(const pyffi_str *s);
size_t rs_char_count(pyffi_str s);
void rs_double_all(pyffi_vec_i64 *v);
int64_t rs_sum(const pyffi_vec_i64 *v);
void rs_normalize(pyffi_vec_f64 *v);
void rs_sort_rows(pyffi_vec_vec_i64 *rows);
char *rs_greet(const pyffi_str *name);
void rs_free_string(char *s);
size_t rs_free_count(void);
