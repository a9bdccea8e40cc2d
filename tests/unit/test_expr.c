// test_expr.c: placeholder
int main(void) { return 77; }
