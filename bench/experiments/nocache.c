// LD_PRELOAD experiment: qkiosk-scanner with libclamav's clean-file cache disabled.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <clamav.h>
cl_error_t cl_engine_compile(struct cl_engine *engine) {
    static cl_error_t (*real)(struct cl_engine *) = 0;
    if (!real) real = (cl_error_t (*)(struct cl_engine *))dlsym(RTLD_NEXT, "cl_engine_compile");
    cl_engine_set_num(engine, CL_ENGINE_DISABLE_CACHE, 1);
    return real(engine);
}
