// test_numfmt.c: placeholder
int main(void) { return 77; }
