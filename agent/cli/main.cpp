#include "agent/cli/cli.hpp"

int main(int argc, char** argv) { return certagent::agent::run_cli(argc, argv); }
