rule encoded_powershell : behavior
{
    meta:
        description = "powershell started hidden with an encoded (base64) command"
        severity = "medium"
        kind = "behavior"
        example_match = "powershell.exe -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
        example_benign = "powershell.exe -NoProfile -File build.ps1 -Configuration Release"
    strings:
        $ps = "powershell" ascii wide nocase
        $hidden = /-w(indowstyle)?\s+hidden/ ascii wide nocase
        $enc = /\s-e(nc|ncodedcommand)?\s+[A-Za-z0-9+\/=]{40,}/ ascii wide nocase
    condition:
        $ps and $enc and $hidden
}
