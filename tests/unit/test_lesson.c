// test_lesson.c: placeholder
int main(void) { return 77; }
