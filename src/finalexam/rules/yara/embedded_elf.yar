rule embedded_elf : hiding
{
    meta:
        description = "A Linux ELF executable or library embedded after the start of another file"
        severity = "low"
        kind = "binary"
        example_match_hex = "000000007f454c4602010100000000000000000002003e000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        example_benign = "if (memcmp(buf, \"\\x7fELF\", 4) == 0) return 1;"
    strings:
        $elf = { 7F 45 4C 46 (01 | 02) (01 | 02) 01 }
    condition:
        for any i in (1..#elf) : (
            @elf[i] > 0 and
            (uint16(@elf[i] + 16) == 2 or uint16(@elf[i] + 16) == 3) and
            uint32(@elf[i] + 20) == 1
        )
}
