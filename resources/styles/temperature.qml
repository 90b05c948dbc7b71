<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis styleCategories="AllStyleCategories" maxScale="0" version="3.22.16-Białowieża" minScale="1e+08" hasScaleBasedVisibilityFlag="0">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <temporal mode="0" enabled="0" fetchMode="0">
    <fixedRange>
      <start></start>
      <end></end>
    </fixedRange>
  </temporal>
  <customproperties>
    <Option type="Map">
      <Option type="QString" value="Value" name="identify/format"/>
    </Option>
  </customproperties>
  <pipe-data-defined-properties>
    <Option type="Map">
      <Option type="QString" value="" name="name"/>
      <Option name="properties"/>
      <Option type="QString" value="collection" name="type"/>
    </Option>
  </pipe-data-defined-properties>
  <pipe>
    <provider>
      <resampling maxOversampling="2" enabled="false" zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour"/>
    </provider>
    <rasterrenderer opacity="1" classificationMax="330" nodataColor="" classificationMin="260" alphaBand="-1" type="singlebandpseudocolor" band="1">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader minimumValue="260" labelPrecision="6" maximumValue="330" clip="0" classificationMode="1" colorRampType="INTERPOLATED">
          <colorramp type="gradient" name="[source]">
            <Option type="Map">
              <Option type="QString" value="0,0,4,255" name="color1"/>
              <Option type="QString" value="252,253,191,255" name="color2"/>
              <Option type="QString" value="0" name="discrete"/>
              <Option type="QString" value="gradient" name="rampType"/>
              <Option type="QString" value="0.0196078;2,2,11,255:0.0392157;5,4,22,255:0.0588235;9,7,32,255:0.0784314;14,11,43,255:0.0980392;20,14,54,255:0.117647;26,16,66,255:0.137255;33,17,78,255:0.156863;41,17,90,255:0.176471;49,17,101,255:0.196078;57,15,110,255:0.215686;66,15,117,255:0.235294;74,16,121,255:0.254902;82,19,124,255:0.27451;90,22,126,255:0.294118;98,25,128,255:0.313725;106,28,129,255:0.333333;114,31,129,255:0.352941;121,34,130,255:0.372549;129,37,129,255:0.392157;137,40,129,255:0.411765;145,43,129,255:0.431373;153,45,128,255:0.45098;161,48,126,255:0.470588;170,51,125,255:0.490196;178,53,123,255:0.509804;186,56,120,255:0.529412;194,59,117,255:0.54902;202,62,114,255:0.568627;210,66,111,255:0.588235;217,70,107,255:0.607843;224,76,103,255:0.627451;231,82,99,255:0.647059;236,88,96,255:0.666667;241,96,93,255:0.686275;244,105,92,255:0.705882;247,114,92,255:0.72549;249,123,93,255:0.745098;251,133,96,255:0.764706;252,142,100,255:0.784314;253,152,105,255:0.803922;254,161,110,255:0.823529;254,170,116,255:0.843137;254,180,123,255:0.862745;254,189,130,255:0.882353;254,198,138,255:0.901961;254,207,146,255:0.921569;254,216,154,255:0.941176;253,226,163,255:0.960784;253,235,172,255:0.980392;252,244,182,255" name="stops"/>
            </Option>
            <prop v="0,0,4,255" k="color1"/>
            <prop v="252,253,191,255" k="color2"/>
            <prop v="0" k="discrete"/>
            <prop v="gradient" k="rampType"/>
            <prop v="0.0196078;2,2,11,255:0.0392157;5,4,22,255:0.0588235;9,7,32,255:0.0784314;14,11,43,255:0.0980392;20,14,54,255:0.117647;26,16,66,255:0.137255;33,17,78,255:0.156863;41,17,90,255:0.176471;49,17,101,255:0.196078;57,15,110,255:0.215686;66,15,117,255:0.235294;74,16,121,255:0.254902;82,19,124,255:0.27451;90,22,126,255:0.294118;98,25,128,255:0.313725;106,28,129,255:0.333333;114,31,129,255:0.352941;121,34,130,255:0.372549;129,37,129,255:0.392157;137,40,129,255:0.411765;145,43,129,255:0.431373;153,45,128,255:0.45098;161,48,126,255:0.470588;170,51,125,255:0.490196;178,53,123,255:0.509804;186,56,120,255:0.529412;194,59,117,255:0.54902;202,62,114,255:0.568627;210,66,111,255:0.588235;217,70,107,255:0.607843;224,76,103,255:0.627451;231,82,99,255:0.647059;236,88,96,255:0.666667;241,96,93,255:0.686275;244,105,92,255:0.705882;247,114,92,255:0.72549;249,123,93,255:0.745098;251,133,96,255:0.764706;252,142,100,255:0.784314;253,152,105,255:0.803922;254,161,110,255:0.823529;254,170,116,255:0.843137;254,180,123,255:0.862745;254,189,130,255:0.882353;254,198,138,255:0.901961;254,207,146,255:0.921569;254,216,154,255:0.941176;253,226,163,255:0.960784;253,235,172,255:0.980392;252,244,182,255" k="stops"/>
          </colorramp>
          <item alpha="255" value="260" label="260" color="#000004"/>
          <item alpha="255" value="261.372546" label="261.4" color="#02020b"/>
          <item alpha="255" value="262.745099" label="262.7" color="#050416"/>
          <item alpha="255" value="264.117645" label="264.1" color="#090720"/>
          <item alpha="255" value="265.490198" label="265.5" color="#0e0b2b"/>
          <item alpha="255" value="266.862744" label="266.9" color="#140e36"/>
          <item alpha="255" value="268.23529" label="268.2" color="#1a1042"/>
          <item alpha="255" value="269.60785" label="269.6" color="#21114e"/>
          <item alpha="255" value="270.98041" label="271" color="#29115a"/>
          <item alpha="255" value="272.35297" label="272.4" color="#311165"/>
          <item alpha="255" value="273.72546" label="273.7" color="#390f6e"/>
          <item alpha="255" value="275.09802" label="275.1" color="#420f75"/>
          <item alpha="255" value="276.47058" label="276.5" color="#4a1079"/>
          <item alpha="255" value="277.84314" label="277.8" color="#52137c"/>
          <item alpha="255" value="279.21569999999997" label="279.2" color="#5a167e"/>
          <item alpha="255" value="280.58826" label="280.6" color="#621980"/>
          <item alpha="255" value="281.96075" label="282" color="#6a1c81"/>
          <item alpha="255" value="283.33331" label="283.3" color="#721f81"/>
          <item alpha="255" value="284.70587" label="284.7" color="#792282"/>
          <item alpha="255" value="286.07843" label="286.1" color="#812581"/>
          <item alpha="255" value="287.45099" label="287.5" color="#892881"/>
          <item alpha="255" value="288.82355" label="288.8" color="#912b81"/>
          <item alpha="255" value="290.19611" label="290.2" color="#992d80"/>
          <item alpha="255" value="291.5686" label="291.6" color="#a1307e"/>
          <item alpha="255" value="292.94116" label="292.9" color="#aa337d"/>
          <item alpha="255" value="294.31372" label="294.3" color="#b2357b"/>
          <item alpha="255" value="295.68628" label="295.7" color="#ba3878"/>
          <item alpha="255" value="297.05884" label="297.1" color="#c23b75"/>
          <item alpha="255" value="298.4314" label="298.4" color="#ca3e72"/>
          <item alpha="255" value="299.80389" label="299.8" color="#d2426f"/>
          <item alpha="255" value="301.17645" label="301.2" color="#d9466b"/>
          <item alpha="255" value="302.54901" label="302.5" color="#e04c67"/>
          <item alpha="255" value="303.92157" label="303.9" color="#e75263"/>
          <item alpha="255" value="305.29413" label="305.3" color="#ec5860"/>
          <item alpha="255" value="306.66669" label="306.7" color="#f1605d"/>
          <item alpha="255" value="308.03925" label="308" color="#f4695c"/>
          <item alpha="255" value="309.41174" label="309.4" color="#f7725c"/>
          <item alpha="255" value="310.7843" label="310.8" color="#f97b5d"/>
          <item alpha="255" value="312.15686" label="312.2" color="#fb8560"/>
          <item alpha="255" value="313.52942" label="313.5" color="#fc8e64"/>
          <item alpha="255" value="314.90198" label="314.9" color="#fd9869"/>
          <item alpha="255" value="316.27454" label="316.3" color="#fea16e"/>
          <item alpha="255" value="317.64703" label="317.6" color="#feaa74"/>
          <item alpha="255" value="319.01959" label="319" color="#feb47b"/>
          <item alpha="255" value="320.39215" label="320.4" color="#febd82"/>
          <item alpha="255" value="321.76471" label="321.8" color="#fec68a"/>
          <item alpha="255" value="323.13727" label="323.1" color="#fecf92"/>
          <item alpha="255" value="324.50982999999997" label="324.5" color="#fed89a"/>
          <item alpha="255" value="325.88232" label="325.9" color="#fde2a3"/>
          <item alpha="255" value="327.25488" label="327.3" color="#fdebac"/>
          <item alpha="255" value="328.62744" label="328.6" color="#fcf4b6"/>
          <item alpha="255" value="330" label="330" color="#fcfdbf"/>
          <rampLegendSettings orientation="2" useContinuousLegend="1" suffix="" direction="0" prefix="" minimumLabel="" maximumLabel="">
            <numericFormat id="basic">
              <Option type="Map">
                <Option type="QChar" value="" name="decimal_separator"/>
                <Option type="int" value="6" name="decimals"/>
                <Option type="int" value="0" name="rounding_type"/>
                <Option type="bool" value="false" name="show_plus"/>
                <Option type="bool" value="true" name="show_thousand_separator"/>
                <Option type="bool" value="false" name="show_trailing_zeros"/>
                <Option type="QChar" value="" name="thousand_separator"/>
              </Option>
            </numericFormat>
          </rampLegendSettings>
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0"/>
    <huesaturation colorizeGreen="128" colorizeRed="255" grayscaleMode="0" invertColors="0" colorizeOn="0" colorizeStrength="100" saturation="0" colorizeBlue="128"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
