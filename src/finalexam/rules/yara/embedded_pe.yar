rule embedded_pe : hiding
{
    meta:
        description = "A Windows PE image embedded after the start of another file"
        severity = "low"
        kind = "binary"
        example_match_hex = "004d5a0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000000504500004c01"
        example_benign = "MZ is how a DOS executable starts; PE marks a Windows image"
    strings:
        $mz = "MZ"
    condition:
        for any i in (1..#mz) : (
            @mz[i] > 0 and
            uint32(@mz[i] + 0x3C) < 0x1000 and
            uint32(@mz[i] + uint32(@mz[i] + 0x3C)) == 0x00004550
        )
}
