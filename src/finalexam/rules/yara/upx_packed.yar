rule upx_packed : packer
{
    meta:
        description = "Executable packed with UPX (section names, the UPX! loader header or its banner)"
        severity = "medium"
        kind = "binary"
        example_match_hex = "4d5a0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000555058300000000055505831"
        example_benign_hex = "4d5a00000000000000000000000000000000000000000000000000002e74657874000000002e64617461"
    strings:
        $upx0 = "UPX0" ascii
        $upx1 = "UPX1" ascii
        $magic = "UPX!" ascii
        $info = "$Info: This file is packed with the UPX executable packer" ascii
    condition:
        (uint16(0) == 0x5A4D or uint32(0) == 0x464C457F) and
        (($upx0 in (0..1024) and $upx1 in (0..1024)) or $magic in (0..4096) or $info)
}
