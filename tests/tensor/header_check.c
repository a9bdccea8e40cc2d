// header_check.c: the public tensor headers compile on their own (each is
// included first, alone, under the project's strict warnings).
#include "engine/tensor/tensor.h"
#include "engine/tensor/gemm.h"

int main(void)
{
    return TENSOR_OP_COUNT > 0 && gemm_kernel_name() ? 0 : 1;
}
