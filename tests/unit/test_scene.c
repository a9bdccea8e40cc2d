// test_scene.c: placeholder
int main(void) { return 77; }
