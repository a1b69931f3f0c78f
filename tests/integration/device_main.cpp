// Catch2 main for the device tests: they need libumockdev's preload, so the
// program re-executes itself under umockdev-wrapper when it is not active.
// Without umockdev installed the tests report SKIP (77), never PASS.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    const bool listing = argc > 1 && std::strncmp(argv[1], "--list", 6) == 0;
    const char* preload = std::getenv("LD_PRELOAD");
    const bool preloaded = preload && std::strstr(preload, "umockdev-preload");
    if (!listing && !preloaded) {
        if (std::getenv("QKIOSK_UMOCKDEV_REEXEC")) {
            std::fprintf(stderr, "SKIP: umockdev's preload library did not load\n");
            return 77;
        }
        ::setenv("QKIOSK_UMOCKDEV_REEXEC", "1", 1);
        // Under AddressSanitizer the preload library comes before its runtime;
        // tell ASan that this is intended (no effect on other builds).
        std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
        ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0").c_str(), 1);
        std::vector<char*> args{const_cast<char*>("umockdev-wrapper")};
        for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
        args.push_back(nullptr);
        ::execvp("umockdev-wrapper", args.data());
        std::fprintf(stderr, "SKIP: umockdev-wrapper cannot be run (install umockdev)\n");
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
