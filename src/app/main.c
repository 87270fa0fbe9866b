/*
 * src/app/main.c
 * Entry point of `mcpgw`: dispatches to the subcommands (placeholder until the app lands).
 */
#include <stdio.h>

int main(void)
{
    puts("mcpgw " GW_VERSION);
    return 0;
}
