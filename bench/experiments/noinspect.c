// LD_PRELOAD experiment: qkiosk-scanner without its file-inspection callback.
#include <clamav.h>
void cl_engine_set_clcb_file_inspection(struct cl_engine *engine, clcb_file_inspection callback) {
    (void)engine; (void)callback;
}
