// test_render.c: placeholder
int main(void) { return 77; }
